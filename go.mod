module github.com/rules-portable/rules_portable

go 1.26.0

require (
	github.com/ProtonMail/go-crypto v1.5.2
	github.com/klauspost/compress v1.20.4
	github.com/therootcompany/xz v1.0.1
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/cloudflare/circl v1.6.3 // indirect
	golang.org/x/crypto v0.41.0 // indirect
)
