package watcher

// watchesOutliveMoves is true where fsnotify cannot drop the watch of a directory moved
// away. Its Windows backend keys watches by file identity, names their events by the path
// each was added with, and finds the watch to remove by opening that path: once the
// directory has moved, Remove of the old name finds nothing there, so the watch stays and
// goes on reporting under the old name, from outside the folder after a move out, and Add
// of the new name hands back that same watch. The loop therefore removes by the new name
// (which reaches the old watch by identity) before every add, and drops events from
// directories it no longer watches.
const watchesOutliveMoves = true
