//go:build !linux

package udpbatch

import (
	"errors"
	"net"
)

type sys struct{}

func (c *Conn) init(*net.UDPConn) error { return errors.ErrUnsupported }

// EnablePktInfo is Linux-only.
func (c *Conn) EnablePktInfo() error { return errors.ErrUnsupported }

// SetBuffers is Linux-only.
func (c *Conn) SetBuffers(rcv, snd int) error { return errors.ErrUnsupported }

// Recv is Linux-only.
func (c *Conn) Recv([]Message) (int, error) { return 0, errors.ErrUnsupported }

// Send is Linux-only.
func (c *Conn) Send([]Message) (int, error) { return 0, errors.ErrUnsupported }
