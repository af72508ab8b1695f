package elf

// Report is the JSON form of a File that `portable inspect --json` prints,
// one object per line. Lists are never null; absent strings are "".
//
//	{
//	  "path": "/usr/bin/ls",
//	  "class": "ELF64",              // ELF32 | ELF64
//	  "data": "little-endian",       // little-endian | big-endian
//	  "machine": "x86_64",           // x86_64 i386 aarch64 arm riscv64 ppc64 s390x ... | EM_<n>
//	  "type": "DYN",                 // EXEC | DYN | REL | CORE
//	  "linkage": "dynamic",          // static | static-pie | dynamic
//	  "interpreter": "/lib64/ld-linux-x86-64.so.2",  // PT_INTERP, "" if none
//	  "interp_slot": 28,             // bytes PT_INTERP reserves (0 if none)
//	  "needed": ["libselinux.so.1", "libc.so.6"],     // DT_NEEDED in order
//	  "rpath": "", "runpath": "",    // raw, colon-separated, "" when absent
//	  "soname": "",
//	  "version_needs": [{"file": "libc.so.6", "versions": ["GLIBC_2.2.5", "GLIBC_2.34"]}],
//	  "max_glibc": "GLIBC_2.34",     // highest GLIBC_x.y needed, "" if none
//	  "max_glibcxx": "",             // highest GLIBCXX_x.y needed, "" if none
//	  "problems": []                 // non-fatal findings, e.g. a relative PT_INTERP
//	}
type Report struct {
	Path         string        `json:"path"`
	Class        string        `json:"class"`
	Data         string        `json:"data"`
	Machine      string        `json:"machine"`
	Type         string        `json:"type"`
	Linkage      string        `json:"linkage"`
	Interpreter  string        `json:"interpreter"`
	InterpSlot   int64         `json:"interp_slot"`
	Needed       []string      `json:"needed"`
	RPath        string        `json:"rpath"`
	RunPath      string        `json:"runpath"`
	SOName       string        `json:"soname"`
	VersionNeeds []VersionNeed `json:"version_needs"`
	MaxGLIBC     string        `json:"max_glibc"`
	MaxGLIBCXX   string        `json:"max_glibcxx"`
	Problems     []string      `json:"problems"`
}

// Report summarises f for printing.
func (f *File) Report() Report {
	r := Report{
		Path:         f.Path,
		Class:        f.Class.String(),
		Data:         f.Data.String(),
		Machine:      f.Machine.String(),
		Type:         f.Type.String(),
		Linkage:      f.Linkage.String(),
		Interpreter:  f.Interp,
		Needed:       append([]string{}, f.Needed...),
		RPath:        f.RPath,
		RunPath:      f.RunPath,
		SOName:       f.SOName,
		VersionNeeds: []VersionNeed{},
		MaxGLIBC:     f.MaxVersion("GLIBC"),
		MaxGLIBCXX:   f.MaxVersion("GLIBCXX"),
		Problems:     append([]string{}, f.Problems...),
	}
	if _, size, ok := f.InterpSlot(); ok {
		r.InterpSlot = size
	}
	for _, vn := range f.VersionNeeds {
		r.VersionNeeds = append(r.VersionNeeds, VersionNeed{File: vn.File, Versions: append([]string{}, vn.Versions...)})
	}
	return r
}
