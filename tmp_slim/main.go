package main

import (
	"os"

	"github.com/rules-portable/rules_portable/tools/internal/elf"
)

func main() {
	if len(os.Args) > 1 {
		elf.PatchFile(os.Args[1], os.Args[2], elf.PatchOptions{SetRPath: true, RPath: os.Args[3]})
	}
	os.Stdout.WriteString("x\n")
}
