package instance

import "errors"

// errLocked means another open file holds the lock: a live instance.
var errLocked = errors.New("locked by another instance")
