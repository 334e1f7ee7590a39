// Command hello is built static and dynamic by TestHasInterpreter.
package main

import (
	"fmt"
	"os/user"
)

func main() {
	u, _ := user.Current() // with cgo: glibc's getpwuid, so a dynamic binary
	fmt.Println("hello", u != nil)
}
