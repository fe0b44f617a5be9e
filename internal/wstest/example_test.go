package wstest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rfc6455/websocket/internal/wstest"
)

func ExampleSelect() {
	cases, err := wstest.Select(wstest.Catalogue(), []string{"7.7.*", "7.9.1"}, []string{"7.7.1*"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range cases {
		fmt.Println(c.ID, c.Description)
	}
	// Output:
	// 7.7.2 Send close with valid close code 1001
	// 7.7.3 Send close with valid close code 1002
	// 7.7.4 Send close with valid close code 1003
	// 7.7.5 Send close with valid close code 1007
	// 7.7.6 Send close with valid close code 1008
	// 7.7.7 Send close with valid close code 1009
	// 7.7.8 Send close with valid close code 1010
	// 7.7.9 Send close with valid close code 1011
	// 7.9.1 Send close with invalid close code 0
}

// ExampleClient tests the echo server at ws://127.0.0.1:9001 with the
// whole catalogue and writes Autobahn-style reports.
func ExampleClient() {
	cases, _ := wstest.Select(wstest.Catalogue(), []string{"*"}, nil)
	c := &wstest.Client{URL: "ws://127.0.0.1:9001", Agent: "my-server", Cases: cases}
	results, err := c.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := wstest.WriteReports("reports/servers", map[string][]*wstest.Result{"my-server": results}); err != nil {
		fmt.Println(err)
	}
	fmt.Print(wstest.Summary("my-server", results))
}

// ExampleServer serves the fuzzing server for Autobahn test clients.
func ExampleServer() {
	s := &wstest.Server{Cases: wstest.Catalogue(), OutDir: "reports/clients"}
	fmt.Fprintln(os.Stderr, "point the client under test at ws://127.0.0.1:9001")
	_ = s // http.ListenAndServe("127.0.0.1:9001", s)
}
