package indexer

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"
)

// Block files. A block directory holds one file per block, named by
// BlockFileName, each the protobuf encoding of one common.Block exactly as
// delivered (deterministic marshalling of the decoded block). Test fixtures
// under testdata/blocks use this format, and Capture writes it, so blocks
// captured from a real network drop in next to the synthetic ones.

// BlockFileExt is the extension of a block file.
const BlockFileExt = ".block"

// BlockFileName returns the name of block n's file: the number, zero-padded
// to 6 digits, and BlockFileExt.
func BlockFileName(n uint64) string { return fmt.Sprintf("%06d%s", n, BlockFileExt) }

// WriteBlockFile writes b into dir under BlockFileName.
func WriteBlockFile(dir string, b *common.Block) error {
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(b)
	if err != nil {
		return fmt.Errorf("write block %d: %w", b.GetHeader().GetNumber(), err)
	}
	path := filepath.Join(dir, BlockFileName(b.GetHeader().GetNumber()))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write block %d: %w", b.GetHeader().GetNumber(), err)
	}
	return nil
}

// ReadBlockFile reads one block file.
func ReadBlockFile(path string) (*common.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read block file: %w", err)
	}
	var b common.Block
	if err := proto.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("read block file %s: %w: %w", path, err, ErrMalformed)
	}
	return &b, nil
}

// blockFiles lists the block files of dir by block number. It fails if a
// file name does not match the block number inside (checked on read).
func blockFiles(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list block files: %w", err)
	}
	var nums []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), BlockFileExt)
		if !ok || e.IsDir() {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("list block files: %s: name is not a block number", e.Name())
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums, nil
}

// ReadBlockDir reads every block file of dir, in block order.
func ReadBlockDir(dir string) ([]*common.Block, error) {
	nums, err := blockFiles(dir)
	if err != nil {
		return nil, err
	}
	bs := make([]*common.Block, 0, len(nums))
	for _, n := range nums {
		b, err := readNumbered(dir, n)
		if err != nil {
			return nil, err
		}
		bs = append(bs, b)
	}
	return bs, nil
}

func readNumbered(dir string, n uint64) (*common.Block, error) {
	b, err := ReadBlockFile(filepath.Join(dir, BlockFileName(n)))
	if err != nil {
		return nil, err
	}
	if got := b.GetHeader().GetNumber(); got != n {
		return nil, fmt.Errorf("read block file %s: holds block %d: %w", BlockFileName(n), got, ErrMalformed)
	}
	return b, nil
}

// DirSource is a BlockSource over a block directory. Its streams deliver
// the directory's blocks from the start block on and end with io.EOF after
// the last one; a missing block file in between is a stream error.
type DirSource struct{ Dir string }

// OpenBlocks implements BlockSource.
func (s DirSource) OpenBlocks(ctx context.Context, start uint64) (BlockStream, error) {
	nums, err := blockFiles(s.Dir)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearch(nums, start)
	return &dirStream{ctx: ctx, dir: s.Dir, nums: nums[i:], next: start}, nil
}

type dirStream struct {
	ctx    context.Context
	dir    string
	nums   []uint64
	next   uint64
	closed atomic.Bool // Close may be called while Recv runs in another goroutine
	err    error
}

func (s *dirStream) Recv() (*common.Block, error) {
	if s.err != nil {
		return nil, s.err
	}
	switch {
	case s.closed.Load():
		s.err = fmt.Errorf("block directory %s: stream closed", s.dir)
	case s.ctx.Err() != nil:
		s.err = fmt.Errorf("block directory %s: %w", s.dir, s.ctx.Err())
	case len(s.nums) == 0:
		return nil, io.EOF
	case s.nums[0] != s.next:
		s.err = fmt.Errorf("block directory %s: block %d is missing (next file is %d)", s.dir, s.next, s.nums[0])
	}
	if s.err != nil {
		return nil, s.err
	}
	b, err := readNumbered(s.dir, s.next)
	if err != nil {
		s.err = err
		return nil, err
	}
	s.nums, s.next = s.nums[1:], s.next+1
	return b, nil
}

func (s *dirStream) Close() error {
	s.closed.Store(true)
	return nil
}

// Capture reads blocks [start, end) from src and writes them into dir as
// block files, for use as test fixtures. It stops early, without error, if
// a finite source ends first, and returns the number of blocks written.
func Capture(ctx context.Context, src BlockSource, dir string, start, end uint64) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("capture blocks: %w", err)
	}
	stream, err := src.OpenBlocks(ctx, start)
	if err != nil {
		return 0, fmt.Errorf("capture blocks: open from %d: %w", start, err)
	}
	defer stream.Close()
	written := 0
	for n := start; n < end; n++ {
		b, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return written, fmt.Errorf("capture blocks: receive block %d: %w", n, err)
		}
		if got := b.GetHeader().GetNumber(); got != n {
			return written, fmt.Errorf("capture blocks: expected block %d, got %d: %w", n, got, ErrGap)
		}
		if err := WriteBlockFile(dir, b); err != nil {
			return written, fmt.Errorf("capture blocks: %w", err)
		}
		written++
	}
	return written, nil
}
