// Command ggcr-referrers-registry serves go-containerregistry's pkg/registry with the OCI 1.1
// referrers API enabled (crane registry serve has no flag for it), for the test harness only.
//
// It listens on --address (127.0.0.1:0 picks a free port), logs "serving on port N" to stderr as
// crane does, keeps blobs in memory or under --disk, and adds the header X-Harness-Id: --id to
// every response so the harness knows it reached this very process.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	disk := flag.String("disk", "", "directory for blobs (default: memory)")
	id := flag.String("id", "", "value of the X-Harness-Id response header")
	flag.Parse()

	opts := []registry.Option{registry.WithReferrersSupport(true)}
	if *disk != "" {
		opts = append(opts, registry.WithBlobHandler(registry.NewDiskBlobHandler(*disk)))
	}
	handler := registry.New(opts...)
	withID := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *id != "" {
			w.Header().Set("X-Harness-Id", *id)
		}
		handler.ServeHTTP(w, r)
	})

	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatalln(err)
	}
	log.Printf("serving on port %d", listener.Addr().(*net.TCPAddr).Port)
	server := &http.Server{Handler: withID, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
		<-stop
		_ = server.Close()
	}()
	if err := server.Serve(listener); err != nil && err != http.ErrServerClosed {
		log.Fatalln(err)
	}
}
