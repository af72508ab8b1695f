module example.com/go_cgo

go 1.24
