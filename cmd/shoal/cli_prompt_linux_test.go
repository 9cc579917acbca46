//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its controlling side and
// the terminal a child gets as standard input.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	return ptmx, tty
}

// runOnTerminal runs shoal with a terminal as standard input, answers
// each prompt (read from standard error) with the next of answers, and
// returns the result and what the terminal showed.
func (h *cliHarness) runOnTerminal(t *testing.T, o runOpts, answers []string, args ...string) (result, string) {
	t.Helper()
	ptmx, tty := openPTY(t)
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env(o)
	cmd.Stdin = tty
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	shown := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once the child is gone
		shown <- string(b)
	}()
	var stderr strings.Builder
	r := bufio.NewReader(stderrPipe)
	for _, a := range answers {
		// Each prompt ends with ": " and no newline.
		var prompt []byte
		for !bytes.HasSuffix(prompt, []byte(": ")) {
			c, err := r.ReadByte()
			if err != nil {
				t.Fatalf("no prompt for %q; stderr so far %q", a, stderr.String()+string(prompt))
			}
			prompt = append(prompt, c)
		}
		stderr.Write(prompt)
		waitNoEcho(t, tty)
		if _, err := ptmx.WriteString(a + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	tty.Close() // the child's copy is the last: the terminal closes with it
	rest, _ := io.ReadAll(r)
	stderr.Write(rest)
	err = cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	var screen string
	select {
	case screen = <-shown:
	case <-time.After(waitTimeout):
		t.Fatal("the terminal did not close")
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}, screen
}

// waitNoEcho waits until the child has turned the terminal's echo off,
// which it does after writing its prompt and before reading.
func waitNoEcho(t *testing.T, tty *os.File) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the terminal's echo stayed on")
		}
		time.Sleep(time.Millisecond) // polling a condition the child sets
	}
}

// TestCLIPasswordPrompt checks that passwords are asked for on a terminal
// and never echoed.
func TestCLIPasswordPrompt(t *testing.T) {
	bin := buildShoal(t)
	h := newCLIHarness(t, bin)

	r, screen := h.runOnTerminal(t, runOpts{noCreds: true}, []string{"iggy"}, "stream", "list", "--username", "iggy")
	if r.code != 0 || !strings.HasPrefix(r.stderr, "Password for iggy at "+h.addr+": ") || !strings.Contains(r.stdout, "NAME") {
		t.Errorf("stream list with a prompted password: %s", r)
	}
	if strings.Contains(screen, "iggy") {
		t.Errorf("the password was echoed: %q", screen)
	}

	r, screen = h.runOnTerminal(t, runOpts{}, []string{"s3cret-1", "s3cret-1"}, "user", "create", "prompted")
	if r.code != 0 || !strings.Contains(r.stderr, "The new user's password: ") || !strings.Contains(r.stderr, "Repeat the new user's password: ") {
		t.Errorf("user create with prompted passwords: %s", r)
	}
	if strings.Contains(screen, "s3cret") {
		t.Errorf("the new password was echoed: %q", screen)
	}
	h.okWith(t, runOpts{env: []string{"SHOAL_USERNAME=prompted", "SHOAL_PASSWORD=s3cret-1"}}, "me")

	r, _ = h.runOnTerminal(t, runOpts{}, []string{"one-pass", "other-pass"}, "user", "create", "prompted2")
	if r.code == 0 || !strings.HasSuffix(r.stderr, "shoal: the two entries of the new user's password differ\n") {
		t.Errorf("user create with two different passwords: %s", r)
	}
}
