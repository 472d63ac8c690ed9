package pb

// HTTP paths and media type of our own protocols. Both ends import these so
// they cannot drift apart.
const (
	// ContentType is the Content-Type of protobuf request and reply bodies.
	ContentType = "application/x-protobuf"

	// HeartbeatPath on a master takes a POST of a Heartbeat and answers a
	// HeartbeatResponse. A master that is not the leader answers with
	// leader set to the leader's address and does not process the beat.
	HeartbeatPath = "/internal/heartbeat"

	// AdminPrefix on a volume server takes the master's admin calls:
	// POST AdminPrefix+<op> with the op's request message, answered with its
	// response message (200) or a JSON {"error": "..."} body.
	AdminPrefix = "/admin/"
)

// Admin operations: the path after AdminPrefix, and their messages.
const (
	AdminAllocate         = "allocate"          // AllocateVolumeRequest -> AllocateVolumeResponse
	AdminDelete           = "delete"            // DeleteVolumeRequest -> DeleteVolumeResponse
	AdminReadonly         = "readonly"          // MarkReadonlyRequest -> MarkReadonlyResponse
	AdminWritable         = "writable"          // MarkWritableRequest -> MarkWritableResponse
	AdminVacuumCheck      = "vacuum/check"      // VacuumCheckRequest -> VacuumCheckResponse
	AdminVacuumCompact    = "vacuum/compact"    // VacuumCompactRequest -> VacuumCompactResponse
	AdminVacuumCommit     = "vacuum/commit"     // VacuumCommitRequest -> VacuumCommitResponse
	AdminVacuumCleanup    = "vacuum/cleanup"    // VacuumCleanupRequest -> VacuumCleanupResponse
	AdminDeleteCollection = "collection/delete" // DeleteCollectionRequest -> DeleteCollectionResponse
	AdminVolumeCopy       = "copy"              // VolumeCopyRequest -> VolumeCopyResponse
	AdminSync             = "sync"              // SyncVolumesRequest -> SyncVolumesResponse
)
