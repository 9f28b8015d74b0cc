// Package network runs the county credit network natively, without Docker:
// Hyperledger Fabric v3.1.1 orderers and peers, and the credit chaincode as
// chaincode-as-a-service, as background processes on this machine (or on
// several, see docs/NETWORK.md).
//
// One small file describes the network (Topology, network/topology.yaml):
// the counties (one Fabric organisation each, MSP ID County<code>MSP, with
// their peers) and the ordering service (OrdererMSP, Raft or BFT). From it,
// Up drives Fabric's own command-line tools as subprocesses:
//
//  1. cryptogen makes node and admin identities; the identity package mints
//     an officer (officer1, dept credit-office) and an auditor (auditor1)
//     per county, with the role and department attributes the chaincode
//     reads;
//  2. configtxgen makes the genesis block of the channel (capability V3_0,
//     application V2_5, MAJORITY endorsement and lifecycle endorsement);
//  3. orderers, peers and one chaincode server per county start in their
//     own sessions, with PID files in <run>/pids and logs in <run>/logs;
//  4. osnadmin joins the orderers, `peer channel join` the peers;
//  5. the chaincode package (type ccaas, built by our external builder in
//     network/builder) is installed on every peer, approved by every county
//     and committed;
//  6. each county's admin registers its county; the calendars are installed.
//
// Every step first looks at the real state and acts only if needed, so Up
// is idempotent and repairs a half-started or crashed network; ledgers
// survive Down. Down stops exactly the processes named by the PID files, after
// checking /proc that each PID still runs our binary with our marker.
//
// The run folder's network.json (Profile, DESIGN §9) is what clients read.
package network
