package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times; it is
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// serverSample is the server's cumulative figures at one moment. A
// negative value is unknown.
type serverSample struct {
	at         time.Time
	cpuSec     float64 // user + system CPU seconds since the server started
	rssBytes   float64
	hwmBytes   float64 // peak RSS since start (only from /proc)
	packetsOut float64 // RTP packets the SFU has forwarded
}

// serverProbe reads the server's figures from /proc/<pid> when it has a
// pid, and from its /metrics otherwise; packets forwarded always come from
// /metrics, when it answers.
type serverProbe struct {
	pid        int
	metricsURL string
	http       *http.Client
}

func (p *serverProbe) sample(ctx context.Context) serverSample {
	s := serverSample{at: time.Now(), cpuSec: -1, rssBytes: -1, hwmBytes: -1, packetsOut: -1}
	if m, err := p.scrape(ctx); err == nil {
		s.packetsOut = valueOr(m, "parley_media_packets_out_total", -1)
		s.cpuSec = valueOr(m, "process_cpu_seconds_total", -1)
		s.rssBytes = valueOr(m, "process_resident_memory_bytes", -1)
	}
	if p.pid > 0 {
		if cpu, err := procCPU(p.pid); err == nil {
			s.cpuSec = cpu
		}
		if rss, hwm, err := procRSS(p.pid); err == nil {
			s.rssBytes, s.hwmBytes = rss, hwm
		}
	}
	return s
}

func valueOr(m map[string]float64, k string, def float64) float64 {
	if v, ok := m[k]; ok {
		return v
	}
	return def
}

// scrape reads the unlabelled samples of the server's /metrics.
func (p *serverProbe) scrape(ctx context.Context) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", p.metricsURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// procCPU returns a process's user + system CPU seconds from
// /proc/<pid>/stat (fields 14 and 15, after the parenthesised name).
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad cpu times", pid)
	}
	return (ut + st) / clockTicks, nil
}

// procRSS returns a process's resident and peak resident memory, in
// bytes, from /proc/<pid>/status.
func procRSS(pid int) (rss, hwm float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		kb, perr := strconv.ParseFloat(f[0], 64)
		if perr != nil {
			continue
		}
		if k == "VmRSS" {
			rss = kb * 1024
		} else {
			hwm = kb * 1024
		}
	}
	return rss, hwm, nil
}

// selfCPU returns this process's user + system CPU seconds.
func selfCPU() float64 {
	c, err := procCPU(os.Getpid())
	if err != nil {
		return 0
	}
	return c
}
