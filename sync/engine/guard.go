package engine

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// errInternal is what the user is told when a bug stopped a connection.
var errInternal = errors.New("an internal error stopped this connection (the details are in the log); the other connections keep running. Quit and start the app again to retry")

// guard runs fn and turns a panic into an error of the connection, logged with its stack.
// Every goroutine the engine starts runs under it: a bug in one stage stops that
// connection with a plain message instead of taking the whole app down without a word.
func (r *runner) guard(what string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.logf("%s crashed: %v\n%s", what, p, debug.Stack())
			err = fmt.Errorf("%w (%s: %v)", errInternal, what, p)
		}
	}()
	return fn()
}
