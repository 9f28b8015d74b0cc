package network

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Status is the health of a network.
type Status struct {
	Name      string `json:"name"`
	Dir       string `json:"runFolder"`
	Channel   string `json:"channel"`
	Chaincode string `json:"chaincode"`
	// ChaincodeSequence is the committed definition's sequence, 0 if not
	// committed (or no peer could be asked).
	ChaincodeSequence int          `json:"chaincodeSequence"`
	Committed         bool         `json:"chaincodeCommitted"`
	Nodes             []NodeStatus `json:"nodes"`
	// OrderingLeader is the orderer that reports itself the channel's
	// consensus leader (OrderingLeader), "" when none does: no transaction
	// can be ordered then (an election is under way, or too few orderers
	// run).
	OrderingLeader string `json:"orderingLeader"`
	// Healthy: every node is healthy, the ordering service has a leader
	// and the chaincode is committed.
	Healthy bool `json:"healthy"`
}

// NodeStatus is one process of the network.
type NodeStatus struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // orderer, peer, chaincode
	County  string `json:"county,omitempty"`
	Address string `json:"address"`
	Ops     string `json:"opsAddress,omitempty"`
	// PID is from this run folder's PID file: 0 when not started here.
	PID     int    `json:"pid"`
	Process string `json:"process"` // running, stopped (no PID file here: stopped, or started on another host), stale (PID file of a dead process)
	Health  string `json:"health"`  // OK, or why not
	// Height is the channel's block height on this node (orderers: from
	// osnadmin; peers: peer channel getinfo); 0 when unknown.
	Height uint64 `json:"height"`
	Error  string `json:"error,omitempty"`
}

// Status probes every node concurrently: process, /healthz, channel
// height, the ordering service's leader, and whether the chaincode is
// committed.
func (n *Network) Status(ctx context.Context) (*Status, error) {
	if n.fab == nil {
		return nil, fmt.Errorf("network status: Fabric binaries are needed: %w", ErrInvalid)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s := &Status{Name: n.T.Name, Dir: n.Dir, Channel: n.T.Channel, Chaincode: n.T.Chaincode}
	proc := func(ns *NodeStatus) {
		st, rec, err := n.status(ns.Name)
		switch {
		case err != nil:
			ns.Process, ns.Error = "unknown", err.Error()
		case st == procRunning:
			ns.Process, ns.PID = "running", rec.PID
		case st == procStale:
			ns.Process = "stale"
		default:
			ns.Process = "stopped"
		}
	}
	var wg sync.WaitGroup
	for _, o := range n.T.OrdererNodes() {
		s.Nodes = append(s.Nodes, NodeStatus{Name: o.Name, Kind: "orderer", Address: o.Address(), Ops: o.OpsAddress()})
	}
	for _, p := range n.T.PeerNodes() {
		s.Nodes = append(s.Nodes, NodeStatus{Name: p.ProcName(), Kind: "peer", County: p.County.Code, Address: p.Address(), Ops: p.OpsAddress()})
	}
	for _, c := range n.T.ChaincodeServers() {
		s.Nodes = append(s.Nodes, NodeStatus{Name: c.ProcName(), Kind: "chaincode", County: c.County.Code, Address: c.Address()})
	}
	ords, peers := n.T.OrdererNodes(), n.T.PeerNodes()
	for i := range s.Nodes {
		ns := &s.Nodes[i]
		proc(ns)
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch ns.Kind {
			case "orderer":
				ns.Health = healthz(ctx, ns.Ops)
				if ns.Health == "OK" {
					info, ok, err := n.ordererChannel(ctx, ords[i])
					switch {
					case err != nil:
						ns.Error = firstLine(err.Error())
					case !ok:
						ns.Error = "not joined to channel " + n.T.Channel
					default:
						ns.Height = info.Height
					}
				}
			case "peer":
				ns.Health = healthz(ctx, ns.Ops)
				if ns.Health == "OK" {
					h, err := n.adminCLI(peers[i-len(ords)]).channelHeight(ctx, n.T.Channel)
					if err != nil {
						ns.Error = firstLine(err.Error())
					}
					ns.Height = h
				}
			case "chaincode":
				ns.Health = "OK"
				if !tcpUp(ns.Address) {
					ns.Health = "not listening"
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n.T.Counties {
			seq, err := n.adminCLI(n.firstPeer(i)).committedSequence(ctx, n.T.Channel, n.T.Chaincode)
			if err == nil {
				s.ChaincodeSequence, s.Committed = seq, true
				return
			}
			if errors.Is(err, errNotCommitted) {
				return
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.OrderingLeader, _ = n.OrderingLeader(ctx)
	}()
	wg.Wait()
	s.Healthy = s.Committed && s.OrderingLeader != ""
	for _, ns := range s.Nodes {
		if ns.Health != "OK" || ns.Error != "" {
			s.Healthy = false
		}
	}
	return s, nil
}
