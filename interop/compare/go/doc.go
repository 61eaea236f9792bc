// Package compare times gopssst v0.2.2 (the Go reference implementation of
// PSSST) for the side-by-side benchmark in interop/compare: `go test -bench`,
// 64-byte messages, the same operations as the Rust and Python legs, plus
// the raw X25519 of the curve25519 package gopssst is built on.
package compare
