// Package layering holds no code: its test states the module's dependency
// rules as allow-lists and checks them against the real package graph
// (go list -deps). See layering_test.go and docs/architecture.md.
package layering
