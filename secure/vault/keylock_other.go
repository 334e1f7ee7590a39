//go:build !unix

package vault

// LockKeyFile is a no-op where flock is unavailable: key rotations are not
// guarded against each other there.
func LockKeyFile(path string) (unlock func(), err error) {
	return func() {}, nil
}
