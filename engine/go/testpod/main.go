// Command testpod stands in for both the pod sandbox ("pause") image and a static pod's workload: without
// arguments it waits for SIGTERM or SIGINT; with -listen ADDR it also answers every HTTP request with its
// -message, so a test can tell that the kubelet really started it.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	listen := flag.String("listen", "", "address to serve HTTP on (none: only wait for a signal)")
	message := flag.String("message", "testpod", "what every HTTP response says")
	flag.Parse()
	if *listen != "" {
		http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, *message) })
		go func() {
			if err := http.ListenAndServe(*listen, nil); err != nil {
				fmt.Fprintln(os.Stderr, "testpod:", err)
				os.Exit(1)
			}
		}()
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
