package elf

import "fmt"

// Class is the ELF file class (EI_CLASS): the word size of the object.
type Class uint8

// ELF classes.
const (
	ClassNone Class = 0
	Class32   Class = 1
	Class64   Class = 2
)

func (c Class) String() string {
	switch c {
	case Class32:
		return "ELF32"
	case Class64:
		return "ELF64"
	}
	return fmt.Sprintf("ELFCLASS(%d)", uint8(c))
}

// Data is the byte order of the file (EI_DATA).
type Data uint8

// ELF data encodings.
const (
	DataNone Data = 0
	Data2LSB Data = 1 // little-endian
	Data2MSB Data = 2 // big-endian
)

func (d Data) String() string {
	switch d {
	case Data2LSB:
		return "little-endian"
	case Data2MSB:
		return "big-endian"
	}
	return fmt.Sprintf("ELFDATA(%d)", uint8(d))
}

// Machine is the target architecture (e_machine).
type Machine uint16

// The machines this package names. Any other value still parses; its
// String is "EM_<number>".
const (
	EMNone        Machine = 0
	EMSPARC       Machine = 2
	EM386         Machine = 3
	EM68K         Machine = 4
	EMMIPS        Machine = 8
	EMPARISC      Machine = 15
	EMSPARC32PLUS Machine = 18
	EMPPC         Machine = 20
	EMPPC64       Machine = 21
	EMS390        Machine = 22
	EMARM         Machine = 40
	EMSH          Machine = 42
	EMSPARCV9     Machine = 43
	EMIA64        Machine = 50
	EMX86_64      Machine = 62
	EMAARCH64     Machine = 183
	EMRISCV       Machine = 243
	EMLOONGARCH   Machine = 258
)

func (m Machine) String() string {
	switch m {
	case EMNone:
		return "none"
	case EMSPARC, EMSPARC32PLUS:
		return "sparc"
	case EM386:
		return "i386"
	case EM68K:
		return "m68k"
	case EMMIPS:
		return "mips"
	case EMPARISC:
		return "hppa"
	case EMPPC:
		return "ppc"
	case EMPPC64:
		return "ppc64"
	case EMS390:
		return "s390x"
	case EMARM:
		return "arm"
	case EMSH:
		return "sh"
	case EMSPARCV9:
		return "sparc64"
	case EMIA64:
		return "ia64"
	case EMX86_64:
		return "x86_64"
	case EMAARCH64:
		return "aarch64"
	case EMRISCV:
		return "riscv64"
	case EMLOONGARCH:
		return "loongarch64"
	}
	return fmt.Sprintf("EM_%d", uint16(m))
}

// Type is the object file type (e_type).
type Type uint16

// ELF object file types.
const (
	TypeNone Type = 0
	TypeRel  Type = 1
	TypeExec Type = 2
	TypeDyn  Type = 3
	TypeCore Type = 4
)

func (t Type) String() string {
	switch t {
	case TypeNone:
		return "NONE"
	case TypeRel:
		return "REL"
	case TypeExec:
		return "EXEC"
	case TypeDyn:
		return "DYN"
	case TypeCore:
		return "CORE"
	}
	return fmt.Sprintf("ET_%#x", uint16(t))
}

// Linkage says how a program gets its libraries at run time.
type Linkage uint8

// Linkage kinds.
const (
	// Static: no dynamic section and no interpreter; the kernel jumps
	// straight to the entry point.
	Static Linkage = iota
	// StaticPIE: position-independent, relocates itself, no interpreter
	// (DF_1_PIE set and no PT_INTERP).
	StaticPIE
	// Dynamic: has an interpreter (an executable) or a dynamic section
	// without DF_1_PIE (a shared library, including ld.so itself).
	Dynamic
)

func (l Linkage) String() string {
	switch l {
	case Static:
		return "static"
	case StaticPIE:
		return "static-pie"
	case Dynamic:
		return "dynamic"
	}
	return fmt.Sprintf("Linkage(%d)", uint8(l))
}

// ProgType is a program header type (p_type).
type ProgType uint32

// Program header types used by this package.
const (
	PTNull        ProgType = 0
	PTLoad        ProgType = 1
	PTDynamic     ProgType = 2
	PTInterp      ProgType = 3
	PTNote        ProgType = 4
	PTShlib       ProgType = 5
	PTPhdr        ProgType = 6
	PTTLS         ProgType = 7
	PTGNUEHFrame  ProgType = 0x6474e550
	PTGNUStack    ProgType = 0x6474e551
	PTGNURelro    ProgType = 0x6474e552
	PTGNUProperty ProgType = 0x6474e553
)

func (p ProgType) String() string {
	switch p {
	case PTNull:
		return "NULL"
	case PTLoad:
		return "LOAD"
	case PTDynamic:
		return "DYNAMIC"
	case PTInterp:
		return "INTERP"
	case PTNote:
		return "NOTE"
	case PTShlib:
		return "SHLIB"
	case PTPhdr:
		return "PHDR"
	case PTTLS:
		return "TLS"
	case PTGNUEHFrame:
		return "GNU_EH_FRAME"
	case PTGNUStack:
		return "GNU_STACK"
	case PTGNURelro:
		return "GNU_RELRO"
	case PTGNUProperty:
		return "GNU_PROPERTY"
	}
	return fmt.Sprintf("PT_%#x", uint32(p))
}

// Segment permission flags (p_flags).
const (
	PFX uint32 = 1
	PFW uint32 = 2
	PFR uint32 = 4
)

// DynTag is a dynamic entry tag (d_tag).
type DynTag int64

// Dynamic tags used by this package.
const (
	DTNull          DynTag = 0
	DTNeeded        DynTag = 1
	DTHash          DynTag = 4
	DTStrtab        DynTag = 5
	DTSymtab        DynTag = 6
	DTStrsz         DynTag = 10
	DTSyment        DynTag = 11
	DTSOName        DynTag = 14
	DTRPath         DynTag = 15
	DTDebug         DynTag = 21
	DTRunPath       DynTag = 29
	DTFlags         DynTag = 30
	DTGNUHash       DynTag = 0x6ffffef5
	DTGNULiblist    DynTag = 0x6ffffef9
	DTAudit         DynTag = 0x6ffffefc
	DTDepAudit      DynTag = 0x6ffffefb
	DTConfig        DynTag = 0x6ffffefa
	DTVersym        DynTag = 0x6ffffff0
	DTVerdef        DynTag = 0x6ffffffc
	DTVerdefNum     DynTag = 0x6ffffffd
	DTVerneed       DynTag = 0x6ffffffe
	DTVerneedNum    DynTag = 0x6fffffff
	DTFlags1        DynTag = 0x6ffffffb
	DTAuxiliary     DynTag = 0x7ffffffd
	DTFilter        DynTag = 0x7fffffff
	DTMIPSRLDMapRel DynTag = 0x70000035
)

func (t DynTag) String() string {
	switch t {
	case DTNull:
		return "NULL"
	case DTNeeded:
		return "NEEDED"
	case DTHash:
		return "HASH"
	case DTStrtab:
		return "STRTAB"
	case DTSymtab:
		return "SYMTAB"
	case DTStrsz:
		return "STRSZ"
	case DTSyment:
		return "SYMENT"
	case DTSOName:
		return "SONAME"
	case DTRPath:
		return "RPATH"
	case DTDebug:
		return "DEBUG"
	case DTRunPath:
		return "RUNPATH"
	case DTFlags:
		return "FLAGS"
	case DTGNUHash:
		return "GNU_HASH"
	case DTAudit:
		return "AUDIT"
	case DTDepAudit:
		return "DEPAUDIT"
	case DTConfig:
		return "CONFIG"
	case DTVerdef:
		return "VERDEF"
	case DTVerdefNum:
		return "VERDEFNUM"
	case DTVerneed:
		return "VERNEED"
	case DTVerneedNum:
		return "VERNEEDNUM"
	case DTFlags1:
		return "FLAGS_1"
	case DTAuxiliary:
		return "AUXILIARY"
	case DTFilter:
		return "FILTER"
	}
	return fmt.Sprintf("DT_%#x", int64(t))
}

// isStringTag reports whether the value of a dynamic entry with this tag
// is an offset into the dynamic string table.
func (t DynTag) isStringTag() bool {
	switch t {
	case DTNeeded, DTSOName, DTRPath, DTRunPath, DTAudit, DTDepAudit, DTConfig, DTAuxiliary, DTFilter:
		return true
	}
	return false
}

// DF_1_PIE in DT_FLAGS_1 marks a position-independent executable.
const DF1PIE = 0x08000000

// Section header types used by this package.
const (
	SHTNull    uint32 = 0
	SHTStrtab  uint32 = 3
	SHTDynamic uint32 = 6
	SHTNobits  uint32 = 8
	SHTDynsym  uint32 = 11
)

// Prog is one program header.
type Prog struct {
	Type   ProgType
	Flags  uint32
	Off    uint64
	Vaddr  uint64
	Paddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

// Section is one section header, with its name resolved when the section
// name table is readable.
type Section struct {
	Name      string
	NameOff   uint32
	Type      uint32
	Flags     uint64
	Addr      uint64
	Off       uint64
	Size      uint64
	Link      uint32
	Info      uint32
	Addralign uint64
	Entsize   uint64
}

// Dyn is one dynamic entry.
type Dyn struct {
	Tag DynTag
	Val uint64
}

// VersionNeed lists the symbol versions one file requires from one
// library, from .gnu.version_r (DT_VERNEED), e.g.
// {"libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.34"]}.
type VersionNeed struct {
	File     string   `json:"file"`
	Versions []string `json:"versions"`
}
