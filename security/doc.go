// Package security owns what weed shares with SeaweedFS about access
// control: the security.toml file, the HS256 file-id tokens a master signs
// and volume servers check, and the IP white list of admin endpoints.
//
// Tokens carry {"fid": "<vid>,<keycookie>", "exp": <unix seconds>} and are
// signed with a key both sides read from security.toml ([jwt.signing] for
// writes, [jwt.signing.read] for reads). A token for "3,01637037d6" also
// grants "3,01637037d6_7": the `_N` suffix of a count>1 assign is stripped
// before comparison, as SeaweedFS does.
//
// It never decides what a request may do beyond "this token is valid for
// this fid" and "this address is white-listed"; handlers decide the rest.
package security
