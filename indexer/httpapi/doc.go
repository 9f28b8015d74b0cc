// Package httpapi serves an index (package indexer) over HTTP: a read-only
// JSON API with one route per lookup and for the county indicators, the
// ingest status, and Prometheus metrics. It imports the indexer, the
// chaincode's domain types and third-party packages only; `creditctl index
// serve` wires it to a live index.
//
// # Routes
//
// Every route is GET; everything else gets 405. Dates are YYYY-MM-DD,
// months YYYY-MM; asOf defaults to today in UTC+8 (DESIGN §2).
//
//	/v1/status                                        ingest status (Status)
//	/v1/subjects/{subject}?asOf=                      indexer.Profile: every record of a subject
//	/v1/records/{kind}/{id}?asOf=                     one record with its derived state
//	/v1/records/{kind}/{id}/history                   []indexer.HistoryEntry, oldest first
//	/v1/counties/{county}/blacklist?asOf=             List of punishments
//	/v1/counties/{county}/watchlist?asOf=             List of punishments
//	/v1/counties/{county}/overdue?asOf=               List of commitments
//	/v1/counties/{county}/publicity-ending?asOf=&days= List of punishments (days default 30)
//	/v1/counties/{county}/repairs-awaiting?asOf=      List of repairs
//	/v1/counties/{county}/indicators/{month}          indexer.Indicators; county "all" or "*" for all counties
//	/metrics                                          Prometheus text format
//	/healthz                                          200 "ok" while the index is open
//
// Records are the chaincode's JSON (DESIGN §8) with derivedState, exactly
// as GetRecord returns them for the same as-of date.
//
// # Errors
//
// An error is a JSON object {"error": {"code", "message", "field"}} with
// the status: 400 INVALID (a bad argument or an unknown query parameter;
// field names it), 404 NOT_FOUND (no such record, or no such route), 405
// METHOD_NOT_ALLOWED, 503 UNAVAILABLE (the index is closed), 500 INTERNAL
// (anything else, such as a corrupt index).
//
// # Metrics
//
// Metrics (NewMetrics) are a registry of their own holding, with the Go and
// process collectors:
//
//	creditindex_height                     blocks applied (the next block expected)
//	creditindex_peer_height                the peer's ledger height, as last seen (0: unknown)
//	creditindex_lag_blocks                 peer height - height (0 while the peer height is unknown)
//	creditindex_blocks_applied_total       blocks written by this process
//	creditindex_transactions_applied_total transactions in them, by validity (valid, invalid)
//	creditindex_writes_applied_total       namespace writes in them
//	creditindex_apply_seconds              histogram: Apply time per block (parse, batch, synced commit)
//	creditindex_lookup_seconds             histogram by lookup: time in the index per request
//	creditindex_http_requests_total        requests by route and status code
package httpapi
