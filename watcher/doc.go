// Package watcher turns fsnotify events on one export folder into settled batches of changed
// paths for the sync engine.
//
// The watcher is a hint; the scanner decides what changed. A batch names paths
// (slash-separated, relative to the export folder) that had events and have since been quiet:
// no event for the settle delay and the same size and modification time at two stat checks
// in a row, so a document still being written is not announced as final. A path may be a
// file, a directory (its subtree may have changed; it is held until nothing below it is
// still changing), or gone (deleted or renamed away); the engine stats it and decides. The
// batch {"."} asks for a rescan of the whole folder: it is sent after an event overflow, a
// watcher error, a watch that could not be added (the inotify limit), or the folder coming
// back after it was gone.
//
// Each Watcher is one goroutine (Serve) that owns all its state and loops on select, in the
// manner of syncthing's lib/watchaggregator. It keeps no timer running while nothing is
// pending; the only idle work is one stat of the export folder per RecheckInterval, because an
// unmount is invisible to inotify.
package watcher
