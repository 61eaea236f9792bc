module pssst-rs/interop/compare/go

go 1.19

require github.com/nickovs/gopssst v0.2.2

require golang.org/x/crypto v0.0.0-20200820211705-5c72a883971a // indirect
