// Package watcher turns fsnotify events on an export folder into settled batches of changed
// paths for the sync engine. Events are hints: an overflow or error asks for a full rescan.
package watcher
