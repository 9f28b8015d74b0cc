package cli

import (
	"bytes"
	"io"
	"os"
)

// IOStreams are a command's standard streams. Tests use Test() to capture
// them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data: tables, JSON
	ErrOut io.Writer // progress and diagnostics
	// IsTerminal reports whether Out is a terminal; it selects human
	// tables over plain tab-separated lines and enables progress bars.
	IsTerminal bool
}

// System returns the process's streams.
func System() *IOStreams {
	tty := false
	if fi, err := os.Stdout.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, IsTerminal: tty}
}

// Test returns streams backed by buffers: stdin, stdout, stderr.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}
