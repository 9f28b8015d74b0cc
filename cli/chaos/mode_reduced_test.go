//go:build integration && !chaos

package chaos

// full is false in the reduced form that make test runs (-tags
// integration): light load, fewer records.
const full = false
