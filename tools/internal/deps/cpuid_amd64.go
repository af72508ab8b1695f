package deps

// cpuid executes the CPUID instruction for a leaf and sub-leaf.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns XCR0, the register state the kernel saves; call it only
// when CPUID says OSXSAVE.
func xgetbv0() (eax, edx uint32)

// cpuidBits name the CPUID bits glibc's ISA levels and platform use, with
// /proc/cpuinfo's names: leaf, register (0 ebx, 1 ecx, 2 edx), bit.
var cpuidBits = []struct {
	name        string
	leaf, reg   uint32
	bit         uint
	needsAVX    bool // usable only when the kernel saves YMM state
	needsAVX512 bool // ...and opmask and ZMM state
}{
	{name: "fpu", leaf: 1, reg: 2, bit: 0},
	{name: "cx8", leaf: 1, reg: 2, bit: 8},
	{name: "cmov", leaf: 1, reg: 2, bit: 15},
	{name: "mmx", leaf: 1, reg: 2, bit: 23},
	{name: "fxsr", leaf: 1, reg: 2, bit: 24},
	{name: "sse", leaf: 1, reg: 2, bit: 25},
	{name: "sse2", leaf: 1, reg: 2, bit: 26},
	{name: "pni", leaf: 1, reg: 1, bit: 0},
	{name: "ssse3", leaf: 1, reg: 1, bit: 9},
	{name: "fma", leaf: 1, reg: 1, bit: 12, needsAVX: true},
	{name: "cx16", leaf: 1, reg: 1, bit: 13},
	{name: "sse4_1", leaf: 1, reg: 1, bit: 19},
	{name: "sse4_2", leaf: 1, reg: 1, bit: 20},
	{name: "movbe", leaf: 1, reg: 1, bit: 22},
	{name: "popcnt", leaf: 1, reg: 1, bit: 23},
	{name: "avx", leaf: 1, reg: 1, bit: 28, needsAVX: true},
	{name: "f16c", leaf: 1, reg: 1, bit: 29, needsAVX: true},
	{name: "bmi1", leaf: 7, reg: 0, bit: 3},
	{name: "avx2", leaf: 7, reg: 0, bit: 5, needsAVX: true},
	{name: "bmi2", leaf: 7, reg: 0, bit: 8},
	{name: "avx512f", leaf: 7, reg: 0, bit: 16, needsAVX512: true},
	{name: "avx512dq", leaf: 7, reg: 0, bit: 17, needsAVX512: true},
	{name: "avx512pf", leaf: 7, reg: 0, bit: 26, needsAVX512: true},
	{name: "avx512er", leaf: 7, reg: 0, bit: 27, needsAVX512: true},
	{name: "avx512cd", leaf: 7, reg: 0, bit: 28, needsAVX512: true},
	{name: "avx512bw", leaf: 7, reg: 0, bit: 30, needsAVX512: true},
	{name: "avx512vl", leaf: 7, reg: 0, bit: 31, needsAVX512: true},
	{name: "lahf_lm", leaf: 0x80000001, reg: 1, bit: 0},
	{name: "abm", leaf: 0x80000001, reg: 1, bit: 5},
}

// hostX86Flags asks the CPU for its vendor and the features glibc's
// levels use, named as in /proc/cpuinfo. Features that need register
// state the kernel does not enable (XCR0) count as absent, as in glibc.
func hostX86Flags() (vendor string, flags map[string]bool, ok bool) {
	maxLeaf, b, c, d := cpuid(0, 0)
	vendor = string([]byte{
		byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24),
		byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24),
		byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24),
	})
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	regs := map[uint32][3]uint32{}
	for _, leaf := range []uint32{1, 7, 0x80000001} {
		if (leaf < 0x80000000 && leaf > maxLeaf) || (leaf >= 0x80000000 && leaf > maxExt) {
			continue
		}
		_, b, c, d := cpuid(leaf, 0)
		regs[leaf] = [3]uint32{b, c, d}
	}
	var avxState, avx512State bool
	if r, ok := regs[1]; ok && r[1]&(1<<27) != 0 { // OSXSAVE
		xcr0, _ := xgetbv0()
		avxState = xcr0&0x6 == 0x6      // SSE and YMM
		avx512State = xcr0&0xe6 == 0xe6 // ... opmask, ZMM_Hi256, Hi16_ZMM
	}
	flags = map[string]bool{}
	for _, f := range cpuidBits {
		r, ok := regs[f.leaf]
		if !ok || r[f.reg]&(1<<f.bit) == 0 {
			continue
		}
		if (f.needsAVX || f.needsAVX512) && !avxState || f.needsAVX512 && !avx512State {
			continue
		}
		flags[f.name] = true
	}
	return vendor, flags, true
}
