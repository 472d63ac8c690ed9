package state

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// Encode marshals a command for Raft.Propose.
func Encode(cmd *pb.MasterCommand) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("state: encoding command: %w", err)
	}
	return b, nil
}

// ReserveKeysCommand reserves count needle keys, none below atLeast.
func ReserveKeysCommand(count, atLeast uint64) *pb.MasterCommand {
	return &pb.MasterCommand{Command: &pb.MasterCommand_ReserveKeys{
		ReserveKeys: &pb.ReserveKeys{Count: count, AtLeast: atLeast}}}
}

// NextVolumeIDCommand issues count volume ids, none below atLeast.
func NextVolumeIDCommand(count, atLeast uint32) *pb.MasterCommand {
	return &pb.MasterCommand{Command: &pb.MasterCommand_NextVolumeId{
		NextVolumeId: &pb.NextVolumeID{Count: count, AtLeast: atLeast}}}
}

// CreateVolumeCommand records a volume placed on servers by growth.
func CreateVolumeCommand(v Volume) *pb.MasterCommand {
	rec := v.record()
	rec.Op = pb.VolumeOp_VOLUME_CREATE
	return &pb.MasterCommand{Command: &pb.MasterCommand_VolumeRecord{VolumeRecord: rec}}
}

// DeleteVolumeCommand drops the record of volume id.
func DeleteVolumeCommand(id uint32) *pb.MasterCommand {
	return &pb.MasterCommand{Command: &pb.MasterCommand_VolumeRecord{
		VolumeRecord: &pb.VolumeRecord{Op: pb.VolumeOp_VOLUME_DELETE, Id: id}}}
}

// DeleteCollectionCommand drops every record of collection name.
func DeleteCollectionCommand(name string) *pb.MasterCommand {
	return &pb.MasterCommand{Command: &pb.MasterCommand_DeleteCollection{
		DeleteCollection: &pb.DeleteCollection{Name: name}}}
}

// MarkReadOnlyCommand sets or clears an operator's read-only mark.
func MarkReadOnlyCommand(id uint32, readOnly bool) *pb.MasterCommand {
	return &pb.MasterCommand{Command: &pb.MasterCommand_MarkReadOnly{
		MarkReadOnly: &pb.MarkReadOnly{VolumeId: id, ReadOnly: readOnly}}}
}
