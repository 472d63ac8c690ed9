package state

import (
	"context"
	"fmt"

	"weedfs.dev/weed/pb"
)

// Proposer submits a command to the Raft group and returns what Apply
// returned for it once committed (raft.Raft.Propose has this shape).
type Proposer interface {
	Propose(ctx context.Context, cmd []byte) (any, error)
}

// Client proposes master commands and decodes their typed results. It is
// what the leader uses; it also implements sequence.Reserver.
type Client struct {
	P Proposer
}

func (c Client) propose(ctx context.Context, cmd *pb.MasterCommand) (any, error) {
	b, err := Encode(cmd)
	if err != nil {
		return nil, err
	}
	res, err := c.P.Propose(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("state: proposing: %w", err)
	}
	if err, ok := res.(error); ok {
		return nil, err
	}
	return res, nil
}

// Reserve reserves count needle keys, none below atLeast, and returns the
// first (sequence.Reserver).
func (c Client) Reserve(ctx context.Context, count, atLeast uint64) (uint64, error) {
	res, err := c.propose(ctx, ReserveKeysCommand(count, atLeast))
	if err != nil {
		return 0, err
	}
	r, ok := res.(KeyRange)
	if !ok || r.Count != count {
		return 0, fmt.Errorf("state: reserve keys answered %v: %w", res, ErrBadCommand)
	}
	return r.Start, nil
}

// NextVolumeIDs issues count volume ids, none below atLeast.
func (c Client) NextVolumeIDs(ctx context.Context, count, atLeast uint32) (VolumeIDs, error) {
	res, err := c.propose(ctx, NextVolumeIDCommand(count, atLeast))
	if err != nil {
		return VolumeIDs{}, err
	}
	r, ok := res.(VolumeIDs)
	if !ok || r.Count != count {
		return VolumeIDs{}, fmt.Errorf("state: next volume ids answered %v: %w", res, ErrBadCommand)
	}
	return r, nil
}

// RecordVolume records a volume placed by growth.
func (c Client) RecordVolume(ctx context.Context, v Volume) error {
	_, err := c.propose(ctx, CreateVolumeCommand(v))
	return err
}

// ForgetVolume drops the record of a deleted volume.
func (c Client) ForgetVolume(ctx context.Context, id uint32) error {
	_, err := c.propose(ctx, DeleteVolumeCommand(id))
	return err
}

// DeleteCollection drops the records of a collection and returns their ids.
func (c Client) DeleteCollection(ctx context.Context, name string) ([]uint32, error) {
	res, err := c.propose(ctx, DeleteCollectionCommand(name))
	if err != nil {
		return nil, err
	}
	r, ok := res.(CollectionDeleted)
	if !ok {
		return nil, fmt.Errorf("state: delete collection answered %v: %w", res, ErrBadCommand)
	}
	return r.Volumes, nil
}

// MarkReadOnly sets or clears an operator's read-only mark.
func (c Client) MarkReadOnly(ctx context.Context, id uint32, readOnly bool) error {
	_, err := c.propose(ctx, MarkReadOnlyCommand(id, readOnly))
	return err
}
