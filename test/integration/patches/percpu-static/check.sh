# proc_nr_inodes (fs/inode.c, /proc/sys/fs/inode-nr) sums the static per-CPU
# counter nr_inodes of its object itself: the patch module must address the
# running kernel's per-CPU variable (a klp relocation to a per-CPU symbol),
# not a copy of its own. Patched, both fields are the number of inodes:
# equal, close to the count before the patch, and growing by the 50 files
# created in a tmpfs (give or take what the kernel allocates meanwhile).
# get_nr_inodes, no longer called by proc_nr_inodes, is then inlined into
# its one remaining caller, get_nr_dirty_inodes, whose code changes too.
kpp_functions="get_nr_dirty_inodes proc_nr_inodes"
d=/tmp/kpp-inodes
inodes() { cut -f1 /proc/sys/fs/inode-nr; }
unused_field() { cut -f2 /proc/sys/fs/inode-nr; }

# near NAME EXPECTED SLACK ACTUAL: ACTUAL within SLACK of EXPECTED.
near() {
	if [ "$4" -ge $(($2 - $3)) ] && [ "$4" -le $(($2 + $3)) ]; then
		kpp_pass "$1" "$4 (expected $2 +- $3)"
	else
		kpp_fail "$1" "expected $2 +- $3, got $4"
	fi
}

# make_files N: create N more files under $d.
make_files() {
	local i=0
	mkdir -p $d
	while [ $i -lt "$1" ]; do
		: >"$d/f$i"
		i=$((i + 1))
	done
}

check_original() {
	local n u
	n=$(inodes)
	u=$(unused_field)
	kpp_info "$1: inode-nr $n $u"
	[ -n "${inodes_before:-}" ] || inodes_before=$n
	if [ "$u" -lt "$n" ]; then
		kpp_pass "$1-unused-below-total" "$u < $n"
	else
		kpp_fail "$1-unused-below-total" "$u >= $n"
	fi
}

check_patched() {
	local n
	n=$(inodes)
	# loading the patch makes sysfs and /proc inodes of its own
	near "$1-total" "$inodes_before" 100 "$n"
	kpp_assert_eq "$1-both-fields" "$n" "$(unused_field)"
	make_files 50
	near "$1-grows" $((n + 50)) 5 "$(inodes)"
}
