package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Size limits for user-supplied inputs that are read whole. Anything
// bigger is refused before it is read, so /dev/zero or a huge file given
// by mistake cannot exhaust memory.
const (
	// MaxLauncherSize bounds --launcher: the real one is a few KiB.
	MaxLauncherSize = 4 << 20
	// MaxSmallFileSize bounds lock files, keyrings and other metadata.
	MaxSmallFileSize = 256 << 20
)

// Allow says which kinds of file an input may be.
type Allow int

const (
	// RegularFile accepts only a regular file.
	RegularFile Allow = 1 << iota
	// Directory accepts a directory.
	Directory
)

// InputError is a user-supplied path of the wrong kind, or too big.
type InputError struct {
	What string // the option or argument, e.g. "--launcher"
	Path string
	Msg  string
}

func (e *InputError) Error() string {
	if e.What == "" {
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("%s %s: %s", e.What, e.Path, e.Msg)
}

// Kind names a file mode's type for messages: "a FIFO", "a directory".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

func want(allow Allow) string {
	switch allow {
	case RegularFile:
		return "a regular file"
	case Directory:
		return "a directory"
	}
	return "a regular file or a directory"
}

// StatInput stats a user-supplied path, following symlinks, and refuses
// anything allow does not name: a FIFO, device or socket is never opened
// (opening a FIFO blocks until a writer comes). what names the option or
// argument in the error, e.g. "--add".
func StatInput(what, path string, allow Allow) (os.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("cannot read it: %v", err)}
	}
	ok := st.Mode().IsRegular() && allow&RegularFile != 0 || st.IsDir() && allow&Directory != 0
	if !ok {
		return nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("is %s; want %s", Kind(st.Mode()), want(allow))}
	}
	return st, nil
}

// OpenInput opens a user-supplied regular file for reading. It stats
// first, opens with O_NONBLOCK (so a FIFO swapped in after the stat cannot
// block) and checks again on the open descriptor. max > 0 refuses a larger
// file, naming the limit.
func OpenInput(what, path string, max int64) (*os.File, os.FileInfo, error) {
	if _, err := StatInput(what, path, RegularFile); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("cannot open it: %v", err)}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("stat: %v", err)}
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("is %s; want a regular file", Kind(st.Mode()))}
	}
	if max > 0 && st.Size() > max {
		f.Close()
		return nil, nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("is %d bytes, more than the %d this input may be", st.Size(), max)}
	}
	return f, st, nil
}

// OpenFD is OpenInput for loops over many files that the caller has
// already stat'ed: one open (non-blocking, so a file swapped for a FIFO
// since cannot hang it) and one fstat that refuses anything but a regular
// file. The raw descriptor never meets Go's poller (a regular file cannot
// be polled; registering one costs a failed epoll_ctl per file). Close it
// with unix.Close.
func OpenFD(what, path string) (int, *unix.Stat_t, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("cannot open it: %v", err)}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("stat: %v", err)}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, nil, &InputError{What: what, Path: path, Msg: fmt.Sprintf("is %s; want a regular file", Kind(modeOf(st.Mode)))}
	}
	return fd, &st, nil
}

// modeOf turns a stat(2) st_mode into an fs.FileMode's type bits.
func modeOf(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return 0
}

// ReadInput reads a whole user-supplied regular file of at most max bytes
// (see OpenInput). A file that grows past max while being read is refused
// too.
func ReadInput(what, path string, max int64) ([]byte, error) {
	f, st, err := OpenInput(what, path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte more than the size, so that the read that sees the end
	// does not grow (copy) the buffer.
	buf := make([]byte, 0, st.Size()+1)
	buf, err = readAtMost(f, buf, max)
	if err != nil {
		return nil, &InputError{What: what, Path: path, Msg: err.Error()}
	}
	return buf, nil
}

func readAtMost(r io.Reader, buf []byte, max int64) ([]byte, error) {
	lr := io.LimitReader(r, max+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > max {
			return nil, fmt.Errorf("grew past %d bytes while being read", max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
	}
}
