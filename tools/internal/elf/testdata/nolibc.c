/* A static program without libc, for the tests' static and static-pie
 * cases (a static glibc hello would be 700 KiB). x86_64 only. */
void _start(void) {
	__asm__ volatile("mov $60, %eax\n\txor %edi, %edi\n\tsyscall");
}
