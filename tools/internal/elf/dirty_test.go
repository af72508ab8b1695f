package elf

// Every test and fuzz run of Patch confirms that the bytes it changes
// below the new segment lie in the spans PatchFile writes.
func init() { checkDirty = true }
