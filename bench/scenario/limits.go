package scenario

import "time"

// The WebSocket targets of DESIGN.md.
const (
	DeliveryAPIP99    = 10 * time.Millisecond
	DeliveryStreamP99 = 3 * time.Millisecond
	AllLastP99        = 200 * time.Millisecond
	FanoutFrames      = 100_000.0
	CPUPerFrameUS     = 11.0
	BytesPerSocket    = 1024.0
	DensitySockets    = 19_000.0
	// HandshakesPerSecond is issue 16's target for one edge process:
	// upgrade, token check and a confirmed subscription, per second.
	HandshakesPerSecond = 5_000.0
)
