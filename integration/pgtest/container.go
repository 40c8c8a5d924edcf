package pgtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/testcontainers/testcontainers-go/wait"
)

// startContainer starts postgres:16-alpine with testcontainers-go. The
// container lives as long as the test binary (testcontainers' reaper removes
// it afterwards).
func startContainer() (url string, err error) {
	defer func() {
		// testcontainers panics when no Docker is reachable on some
		// platforms; turn that into the error the caller explains.
		if r := recover(); r != nil {
			err = fmt.Errorf("testcontainers: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := testcontainers.NewDockerClientWithOpts(ctx); err != nil {
		return "", fmt.Errorf("no Docker: %w", err)
	}
	c, err := postgres.Run(ctx, "postgres:16-alpine",
		postgres.WithDatabase("postgres"),
		postgres.WithUsername("postgres"),
		postgres.WithPassword("postgres"),
		testcontainers.WithWaitStrategy(wait.ForLog("database system is ready to accept connections").
			WithOccurrence(2).WithStartupTimeout(2*time.Minute)),
	)
	if err != nil {
		return "", errors.Join(errors.New("starting postgres:16-alpine"), err)
	}
	return c.ConnectionString(ctx, "sslmode=disable")
}
