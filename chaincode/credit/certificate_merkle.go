package credit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/bits"
)

// The Merkle tree of a certificate batch.
//
// It is the tree of RFC 6962 §2.1 (and RFC 9162 §2.1) with SHA-256:
//
//	leaf_i   = SHA-256(0x00 || certificateId_i || digest_i)
//	node     = SHA-256(0x01 || left || right)
//	MTH(D[n]) for n > 1 = node(MTH(D[0:k]), MTH(D[k:n])), k the largest
//	           power of two smaller than n (so an odd leaf is not duplicated:
//	           it is promoted)
//
// certificateId_i is the member certificate's ID in UTF-8 (MemberID), and
// digest_i the 32 raw bytes of the SHA-256 digest of its canonical status
// (not the hex). The digest has a fixed length, so the ID needs no
// delimiter. The 0x00/0x01 prefixes separate leaves from interior nodes, so
// no interior node can pass for a leaf. Audit paths and their verification
// follow RFC 9162 §2.1.3.

// HashSize is the size of a SHA-256 hash.
const HashSize = sha256.Size

// Hash is a SHA-256 value.
type Hash = [HashSize]byte

// MerkleLeaf returns the leaf hash of one certificate of a batch.
func MerkleLeaf(certificateID string, digest Hash) Hash {
	h := sha256.New()
	h.Write([]byte{0x00})
	h.Write([]byte(certificateID))
	h.Write(digest[:])
	var out Hash
	h.Sum(out[:0])
	return out
}

// merkleNode returns the hash of an interior node.
func merkleNode(left, right Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = 0x01
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

// MerkleTree holds every node of the tree over a list of leaf hashes, so
// that the root and each leaf's audit path cost O(log n) once built.
type MerkleTree struct {
	n     int
	nodes map[span]Hash // MTH of D[lo:hi] for every subtree the definition uses
}

type span struct{ lo, hi int }

// NewMerkleTree builds the tree over leaves (leaf hashes, in order). It
// needs at least one leaf.
func NewMerkleTree(leaves []Hash) (*MerkleTree, error) {
	if len(leaves) == 0 {
		return nil, errors.New("merkle tree: no leaves")
	}
	t := &MerkleTree{n: len(leaves), nodes: make(map[span]Hash, 2*len(leaves))}
	t.build(leaves, 0, len(leaves))
	return t, nil
}

// splitPoint is k, the largest power of two smaller than n (n > 1).
func splitPoint(n int) int {
	return 1 << (bits.Len(uint(n-1)) - 1)
}

func (t *MerkleTree) build(leaves []Hash, lo, hi int) Hash {
	var h Hash
	if hi-lo == 1 {
		h = leaves[lo]
	} else {
		k := splitPoint(hi - lo)
		h = merkleNode(t.build(leaves, lo, lo+k), t.build(leaves, lo+k, hi))
	}
	t.nodes[span{lo, hi}] = h
	return h
}

// Size is the number of leaves.
func (t *MerkleTree) Size() int { return t.n }

// Root is the tree head, MTH(D[n]).
func (t *MerkleTree) Root() Hash { return t.nodes[span{0, t.n}] }

// Path returns the audit path of leaf index (RFC 6962 §2.1.1): the sibling
// hashes from the leaf's level up to the root's children.
func (t *MerkleTree) Path(index int) ([]Hash, error) {
	if index < 0 || index >= t.n {
		return nil, fmt.Errorf("merkle path: index %d outside 0..%d", index, t.n-1)
	}
	var rev []Hash // root side first
	lo, hi := 0, t.n
	for hi-lo > 1 {
		k := splitPoint(hi - lo)
		if index < lo+k {
			rev = append(rev, t.nodes[span{lo + k, hi}])
			hi = lo + k
		} else {
			rev = append(rev, t.nodes[span{lo, lo + k}])
			lo = lo + k
		}
	}
	path := make([]Hash, len(rev))
	for i, h := range rev {
		path[len(rev)-1-i] = h
	}
	return path, nil
}

// MerkleRoot returns the tree head over leaves.
func MerkleRoot(leaves []Hash) (Hash, error) {
	t, err := NewMerkleTree(leaves)
	if err != nil {
		return Hash{}, err
	}
	return t.Root(), nil
}

// VerifyMerklePath checks that leaf is the leaf at index of a tree of size
// leaves with head root, given its audit path (RFC 9162 §2.1.3.2).
func VerifyMerklePath(leaf Hash, index, size int, path []Hash, root Hash) bool {
	if index < 0 || size <= 0 || index >= size {
		return false
	}
	fn, sn := uint(index), uint(size-1)
	r := leaf
	for _, p := range path {
		if sn == 0 {
			return false
		}
		if fn&1 == 1 || fn == sn {
			r = merkleNode(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = merkleNode(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}
