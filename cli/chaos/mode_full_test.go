//go:build chaos

package chaos

// full selects the full form (make chaos, -tags chaos): heavier load, more
// records, the peer restart under load and the indexer crashes.
const full = true
