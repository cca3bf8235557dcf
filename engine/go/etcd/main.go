// Command etcd is the etcd server of go.etcd.io/etcd/server/v3, whose own main package lives in a module that
// is not published; etcdmain is what that main calls.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
