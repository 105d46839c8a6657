// etcd-bench: the benchmarks' etcd load generator, on etcd's official Go
// client (clientv3), so etcd is measured the way its own tools measure it.
// A Deno client through etcd's JSON gateway spends about half a core of this
// 2-core machine and doubles the leader's CPU (JSON transcoding), and so
// understated a 3-member etcd's put rate by 1.5-2x.
//
// Closed loop: `-clients` requests in flight over `-conns` gRPC connections for
// `-seconds`; prints one JSON line {ops_per_s, p50_ms, p99_ms, errors}.
//
// Built by shared/testing/etcd.ts with Debian's golang-go and
// golang-etcd-server-dev (GOPATH mode, no network).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type result struct {
	OpsPerS float64 `json:"ops_per_s"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	Errors  int     `json:"errors"`
}

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated client URLs")
	op := flag.String("op", "put", "put or get (a linearizable range of one key)")
	clients := flag.Int("clients", 50, "requests in flight")
	conns := flag.Int("conns", 1, "gRPC connections shared by the clients")
	seconds := flag.Float64("seconds", 3, "duration of the loop")
	valueBytes := flag.Int("value-bytes", 100, "value size of a put")
	keySpace := flag.Int("keys", 100000, "distinct keys, chosen at random")
	flag.Parse()
	if *op != "put" && *op != "get" {
		fmt.Fprintf(os.Stderr, "unknown -op %q\n", *op)
		os.Exit(2)
	}
	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   strings.Split(*endpoints, ","),
			DialTimeout: 10 * time.Second,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer c.Close()
		cs[i] = c
	}
	value := strings.Repeat("x", *valueBytes)
	end := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	var mu sync.Mutex
	var lat []float64
	errors := 0
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			c := cs[w%len(cs)]
			var mine []float64
			errs := 0
			for time.Now().Before(end) {
				key := fmt.Sprintf("key:%d", r.Intn(*keySpace))
				t0 := time.Now()
				var err error
				if *op == "put" {
					_, err = c.Put(context.Background(), key, value)
				} else {
					_, err = c.Get(context.Background(), key)
				}
				if err != nil {
					errs++
					continue
				}
				mine = append(mine, float64(time.Since(t0).Microseconds())/1000)
			}
			mu.Lock()
			lat = append(lat, mine...)
			errors += errs
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	sort.Float64s(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(float64(len(lat)) * p)
		if i >= len(lat) {
			i = len(lat) - 1
		}
		return lat[i]
	}
	out, _ := json.Marshal(result{float64(len(lat)) / secs, pct(0.5), pct(0.99), errors})
	fmt.Println(string(out))
}
