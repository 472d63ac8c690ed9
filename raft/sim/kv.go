package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// opKind is a client operation on the key-value state machine.
type opKind uint8

const (
	opGet opKind = iota
	opPut
	opAppend
)

func (k opKind) String() string {
	return [...]string{"get", "put", "append"}[k]
}

// command is a write as it travels through the log. (client, seq) makes
// retries idempotent: a state machine applies each seq of a client once.
type command struct {
	kind   opKind
	client uint64
	seq    uint64
	key    string
	value  string
}

var errBadCommand = errors.New("sim: bad command")

func (c command) encode() []byte {
	b := []byte{byte(c.kind)}
	b = binary.AppendUvarint(b, c.client)
	b = binary.AppendUvarint(b, c.seq)
	b = binary.AppendUvarint(b, uint64(len(c.key)))
	b = append(b, c.key...)
	return append(b, c.value...)
}

func decodeCommand(b []byte) (command, error) {
	var c command
	if len(b) < 1 {
		return c, errBadCommand
	}
	c.kind, b = opKind(b[0]), b[1:]
	var n int
	if c.client, n = binary.Uvarint(b); n <= 0 {
		return c, errBadCommand
	}
	b = b[n:]
	if c.seq, n = binary.Uvarint(b); n <= 0 {
		return c, errBadCommand
	}
	b = b[n:]
	kl, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < kl {
		return c, errBadCommand
	}
	b = b[n:]
	c.key, c.value = string(b[:kl]), string(b[kl:])
	return c, nil
}

// kvState is the replicated state machine.
type kvState struct {
	data     map[string]string
	sessions map[uint64]uint64 // client -> last seq applied
}

func newKV() *kvState {
	return &kvState{data: map[string]string{}, sessions: map[uint64]uint64{}}
}

// apply applies a write once; it reports false for a duplicate.
func (s *kvState) apply(c command) bool {
	if s.sessions[c.client] >= c.seq {
		return false
	}
	s.sessions[c.client] = c.seq
	switch c.kind {
	case opPut:
		s.data[c.key] = c.value
	case opAppend:
		s.data[c.key] += c.value
	}
	return true
}

// encode is deterministic: keys sorted.
func (s *kvState) encode() []byte {
	var b []byte
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(s.data[k])))
		b = append(b, s.data[k]...)
	}
	clients := make([]uint64, 0, len(s.sessions))
	for c := range s.sessions {
		clients = append(clients, c)
	}
	slices.Sort(clients)
	b = binary.AppendUvarint(b, uint64(len(clients)))
	for _, c := range clients {
		b = binary.AppendUvarint(b, c)
		b = binary.AppendUvarint(b, s.sessions[c])
	}
	return b
}

func decodeKV(b []byte) (*kvState, error) {
	s := newKV()
	next := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errBadCommand
		}
		b = b[n:]
		return v, nil
	}
	str := func() (string, error) {
		n, err := next()
		if err != nil || uint64(len(b)) < n {
			return "", fmt.Errorf("sim: bad snapshot string: %w", errBadCommand)
		}
		v := string(b[:n])
		b = b[n:]
		return v, nil
	}
	nk, err := next()
	if err != nil {
		return nil, err
	}
	for range nk {
		k, err := str()
		if err != nil {
			return nil, err
		}
		if s.data[k], err = str(); err != nil {
			return nil, err
		}
	}
	nc, err := next()
	if err != nil {
		return nil, err
	}
	for range nc {
		c, err := next()
		if err != nil {
			return nil, err
		}
		if s.sessions[c], err = next(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// kvInput and kvOutput are what porcupine sees of an operation.
type kvInput struct {
	kind       opKind
	key, value string
}

type kvOutput struct {
	value   string
	unknown bool // a write whose outcome the client never learned
}

// kvModel is the sequential specification: one register per key.
func kvModel() porcupine.Model {
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			byKey := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range history {
				k := op.Input.(kvInput).key
				if _, ok := byKey[k]; !ok {
					keys = append(keys, k)
				}
				byKey[k] = append(byKey[k], op)
			}
			slices.Sort(keys)
			out := make([][]porcupine.Operation, 0, len(keys))
			for _, k := range keys {
				out = append(out, byKey[k])
			}
			return out
		},
		Init: func() any { return "" },
		Step: func(state, input, output any) (bool, any) {
			in, out, st := input.(kvInput), output.(kvOutput), state.(string)
			switch in.kind {
			case opGet:
				return out.value == st, st
			case opPut:
				return true, in.value
			}
			return true, st + in.value
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(kvInput), output.(kvOutput)
			if in.kind == opGet {
				return fmt.Sprintf("get(%s) -> %q", in.key, out.value)
			}
			return fmt.Sprintf("%s(%s, %q)", in.kind, in.key, in.value)
		},
	}
}

// shortValue keeps error messages readable.
func shortValue(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-17:]
	}
	return strings.TrimSpace(s)
}
