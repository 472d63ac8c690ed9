// Package lint holds the test that keeps the package map of DESIGN.md true:
// which packages may import which, and which package names are banned.
package lint
