module github.com/rules-portable/rules_portable

go 1.26.0

require golang.org/x/sys v0.50.0

require (
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/term v0.48.0 // indirect
)
