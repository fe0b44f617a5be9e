// Command goclient is the Go member of the chat's browser check: it joins a
// room with package client, says -send messages ("NAME #1", "NAME #2",
// ...), and waits until it has heard -each messages from every member named
// in -expect, each once and in order. It exits with status 1 if a message
// comes twice, out of order or not at all within -timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/rfc6455/websocket/client"
	"github.com/rfc6455/websocket/conn"
	"github.com/rfc6455/websocket/wsjson"
)

func main() {
	server := flag.String("server", "", "chat node URL, such as http://127.0.0.1:8080")
	room := flag.String("room", "lobby", "room to join")
	name := flag.String("name", "goclient", "name in the room")
	send := flag.Int("send", 5, "messages to say")
	expect := flag.String("expect", "", "comma-separated names of the members to hear")
	each := flag.Int("each", 5, "messages to hear from each of them")
	timeout := flag.Duration("timeout", 30*time.Second, "how long to wait for them")
	flag.Parse()
	if err := run(*server, *room, *name, *send, strings.Split(*expect, ","), *each, *timeout); err != nil {
		log.Fatalf("goclient: %v", err)
	}
	log.Printf("goclient: heard %d messages from each of %s, each once and in order", *each, *expect)
}

func run(server, room, name string, send int, expect []string, each int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(server, "http") + "/ws/" + room + "?name=" + url.QueryEscape(name)
	c, _, err := client.Dial(ctx, u, &client.Options{Compression: &conn.Compression{}})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	fmt.Fprintf(os.Stderr, "goclient: joined %s, extensions %q\n", u, c.Extensions())
	for i := 1; i <= send; i++ {
		if err := wsjson.Write(ctx, c, map[string]string{"text": fmt.Sprintf("%s #%d", name, i)}); err != nil {
			return err
		}
	}
	heard := make(map[string]int)
	for _, n := range expect {
		heard[n] = 0
	}
	missing := len(expect)
	for missing > 0 {
		var ev struct{ Type, Name, Text string }
		if err := wsjson.Read(ctx, c, &ev); err != nil {
			return fmt.Errorf("heard %v of %d each: %w", heard, each, err)
		}
		got, ok := heard[ev.Name]
		if ev.Type != "message" || !ok {
			continue
		}
		if want := fmt.Sprintf("%s #%d", ev.Name, got+1); ev.Text != want {
			return fmt.Errorf("heard %q from %s, want %q", ev.Text, ev.Name, want)
		}
		heard[ev.Name]++
		if heard[ev.Name] == each {
			missing--
		}
	}
	return c.Close(conn.CloseNormalClosure, "heard everyone")
}
