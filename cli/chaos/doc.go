// Package chaos holds the fault tests of issue 7 (docs/CHAOS.md): orderer
// and peer loss under load, a hostile county with a malicious chaincode
// server, endorsement determinism across counties and, in the full form,
// indexer crashes under load. It has no code of its own; its tests are
// compiled only with a build tag:
//
//	-tags integration   the reduced form, part of make test (light load,
//	                    fewer random records; about a minute)
//	-tags chaos         the full form, make chaos (heavier load, the
//	                    indexer SIGKILLed under load; several minutes)
//
// The tests own one network (ports from 17050, below the ephemeral port
// range) in a temporary run folder, brought up by TestMain and always torn
// down: on success, on failure, on INT or TERM, and a minute before go
// test's -timeout. On failure the node logs are kept in .run/chaos-logs.
//
// evilcc/ is the hostile county's chaincode server, built by the tests
// only (build tag integration or chaos), never shipped.
package chaos
