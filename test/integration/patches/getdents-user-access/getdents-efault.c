// SPDX-License-Identifier: GPL-2.0
/*
 * getdents64() of DIR into a PROT_NONE page: the user address passes
 * access_ok(), so the kernel's first store into it faults and must be
 * handled by filldir64's exception-table fixups (EFAULT), not oops.
 * Prints "EFAULT", or what happened instead; exits 0 only on EFAULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n;
	void *page;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: getdents-efault DIR\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY);
	page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || page == MAP_FAILED) {
		perror("getdents-efault: setup");
		return 2;
	}
	n = syscall(SYS_getdents64, fd, page, 4096);
	if (n < 0 && errno == EFAULT) {
		printf("EFAULT\n");
		return 0;
	}
	if (n < 0)
		printf("error %s\n", strerror(errno));
	else
		printf("returned %ld\n", n);
	return 1;
}
