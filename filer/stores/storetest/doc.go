// Package storetest is the conformance suite every filer.Store runs: one
// set of behaviours (entries, listing order and paging, recursive deletes,
// transactions, the KV space, concurrent writers) checked the same way
// against the embedded, PostgreSQL and Redis stores, plus shared
// benchmarks so their figures compare.
//
// It owns the definition of what a store must do, as tests. It never
// starts a database (each store's tests hand it a constructor) and never
// reaches into a store's internals.
package storetest
