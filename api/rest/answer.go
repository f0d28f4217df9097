package rest

import (
	"strconv"

	"github.com/chatterly/chatterly/api/fault"
	"github.com/valyala/fasthttp"
)

// Limit reads the limit query parameter of a list route ("" is 0: the
// endpoint's default). Anything but a whole number of 1 or more is a
// validation fault on "limit".
func Limit(c *Ctx) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fault.Invalid("limit", "limit must be a whole number, 1 or more")
	}
	return n, nil
}

// Created answers 201 for a new resource, 200 for an idempotent replay
// (the same request seen before, whose resource v already existed).
func Created(c *Ctx, created bool, v any) error {
	if created {
		return c.JSON(fasthttp.StatusCreated, v)
	}
	return c.JSON(fasthttp.StatusOK, v)
}
