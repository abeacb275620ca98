// Command etcd is etcd's own server entry point, built from the etcd server
// module version that k8s.io/kubernetes pins (see go.mod), so the lab runs the
// etcd release its API server is tested against.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
