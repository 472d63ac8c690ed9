// Package postgres is the filer.Store kept in PostgreSQL (or a database
// speaking its protocol, such as CockroachDB or YugabyteDB), so several
// filers on several machines share one namespace.
//
// It owns its two tables, created on first use when missing:
//
//	<table>     (dir bytea, name bytea, meta bytea, PRIMARY KEY (dir, name))
//	<table>_kv  (k bytea PRIMARY KEY, v bytea)
//
// dir is the folder's normalised path ("" for the root entry itself) and
// meta is filer.EncodeEntry's bytes. bytea compares as bytes whatever the
// database's collation, so the primary key gives a folder's children in
// byte order of names, and the descendants of "/a/b" below its children
// are exactly the rows with "/a/b/" <= dir < "/a/b0" (a range scan of the
// same index; "/a/bc" is outside it).
//
// Transactions are database transactions carried by the context (see
// filer.Store); concurrent filers get PostgreSQL's read-committed
// isolation. Failures to reach the database (refused or lost connections,
// a closed pool) wrap filer.ErrUnavailable; errors the server reports do
// not.
//
// It never creates the database or the role, and never changes rows of
// tables other than its own two.
package postgres
