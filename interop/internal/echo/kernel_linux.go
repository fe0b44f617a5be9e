package echo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// The event-loop echo server cannot count its connections' bytes with a
// wrapping net.Conn, as the goroutine one does: the loops take only bare
// TCP sockets. It asks the kernel instead, which counts them whoever
// reads the socket: a sock_diag query (the one ss -ti makes) finds the
// socket by its addresses and returns its struct tcp_info, whose
// tcpi_bytes_received and tcpi_bytes_acked are the bytes the peer sent
// and acknowledged. When the server answers "stats?", the peer has read
// every earlier echo before sending it, and its segment acknowledged
// them, so the counts are exact.

const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY, linux/sock_diag.h
	inetDiagInfo     = 2  // INET_DIAG_INFO, linux/inet_diag.h

	diagReqLen = 56 // struct inet_diag_req_v2
	diagMsgLen = 72 // struct inet_diag_msg

	// Offsets in struct tcp_info (linux/tcp.h, since Linux 4.1).
	tcpiBytesAcked    = 120
	tcpiBytesReceived = 128
)

// kernelBytes returns the bytes the TCP connection from local to remote
// has received and has had acknowledged, as the kernel counts them.
func kernelBytes(local, remote net.Addr) (in, out int64, err error) {
	la, ok1 := local.(*net.TCPAddr)
	ra, ok2 := remote.(*net.TCPAddr)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("not a TCP connection: %v to %v", local, remote)
	}
	req := make([]byte, syscall.NLMSG_HDRLEN+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST) // one socket, by its addresses
	ne.PutUint32(req[8:], 1)                     // sequence number
	r := req[syscall.NLMSG_HDRLEN:]
	r[1] = syscall.IPPROTO_TCP
	r[2] = 1 << (inetDiagInfo - 1)
	ne.PutUint32(r[4:], 0xffffffff) // every state
	id := r[8:]
	binary.BigEndian.PutUint16(id[0:], uint16(la.Port))
	binary.BigEndian.PutUint16(id[2:], uint16(ra.Port))
	if l4, r4 := la.IP.To4(), ra.IP.To4(); l4 != nil && r4 != nil {
		r[0] = syscall.AF_INET
		copy(id[4:], l4)
		copy(id[20:], r4)
	} else {
		r[0] = syscall.AF_INET6
		copy(id[4:], la.IP.To16())
		copy(id[20:], ra.IP.To16())
	}
	ne.PutUint32(id[40:], 0xffffffff) // INET_DIAG_NOCOOKIE
	ne.PutUint32(id[44:], 0xffffffff)

	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return 0, 0, os.NewSyscallError("socket(AF_NETLINK)", err)
	}
	defer syscall.Close(fd)
	tv := syscall.NsecToTimeval(int64(2 * time.Second))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return 0, 0, os.NewSyscallError("setsockopt", err)
	}
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return 0, 0, os.NewSyscallError("sendto(sock_diag)", err)
	}
	buf := make([]byte, 8192)
	n, _, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, 0, os.NewSyscallError("recvfrom(sock_diag)", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return 0, 0, fmt.Errorf("sock_diag answer: %w", err)
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case syscall.NLMSG_ERROR:
			if len(m.Data) >= 4 {
				if errno := -int32(ne.Uint32(m.Data)); errno != 0 {
					return 0, 0, fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
				}
			}
			return 0, 0, errors.New("sock_diag: an error without a code")
		case sockDiagByFamily:
			if len(m.Data) < diagMsgLen {
				return 0, 0, errors.New("sock_diag: a short inet_diag_msg")
			}
			for a := m.Data[diagMsgLen:]; len(a) >= 4; {
				alen, atyp := int(ne.Uint16(a)), ne.Uint16(a[2:])
				if alen < 4 || alen > len(a) {
					break
				}
				if atyp == inetDiagInfo {
					info := a[4:alen]
					if len(info) < tcpiBytesReceived+8 {
						return 0, 0, fmt.Errorf("sock_diag: a tcp_info of %d bytes, too old a kernel", len(info))
					}
					return int64(ne.Uint64(info[tcpiBytesReceived:])), int64(ne.Uint64(info[tcpiBytesAcked:])), nil
				}
				a = a[(alen+syscall.NLMSG_ALIGNTO-1)&^(syscall.NLMSG_ALIGNTO-1):]
			}
			return 0, 0, errors.New("sock_diag: no tcp_info in the answer")
		}
	}
	return 0, 0, errors.New("sock_diag: no answer for the socket")
}

// peekRequestLine returns the first line of what the peer of tc has sent
// (an HTTP request line), without consuming it, so that the connection
// can still be handed on untouched. It waits until deadline for the line.
func peekRequestLine(tc *net.TCPConn, deadline time.Time) (string, error) {
	raw, err := tc.SyscallConn()
	if err != nil {
		return "", err
	}
	if err := tc.SetReadDeadline(deadline); err != nil {
		return "", err
	}
	defer tc.SetReadDeadline(time.Time{})
	buf := make([]byte, 2048)
	var line string
	var perr error
	err = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK)
		switch {
		case err == syscall.EAGAIN:
			return false // nothing yet: wait until readable
		case err != nil:
			perr = os.NewSyscallError("recvfrom", err)
			return true
		case n == 0:
			perr = errors.New("closed before the request line")
			return true
		}
		for i := range n - 1 {
			if buf[i] == '\r' && buf[i+1] == '\n' {
				line = string(buf[:i])
				return true
			}
		}
		if n == len(buf) {
			perr = errors.New("request line too long")
			return true
		}
		// Part of the line: wait for more. The runtime's poller is
		// edge-triggered, so this waits for new data, not the data
		// already seen.
		return false
	})
	if err != nil {
		return "", err
	}
	return line, perr
}
