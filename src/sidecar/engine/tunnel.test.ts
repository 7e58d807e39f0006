import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameDestination } from './server.js';

describe('a request inside a CONNECT tunnel names its destination', () => {
  it('with the same host and port; a Host without a port stands for 80', () => {
    assert.ok(sameDestination('echo.demo:80', 'echo.demo:80'));
    assert.ok(sameDestination('echo.demo', 'echo.demo:80'));
    assert.ok(sameDestination('[::1]', '[::1]:80'));
    assert.ok(sameDestination('[::1]:8080', '[::1]:8080'));
    assert.ok(!sameDestination('echo.demo', 'echo.demo:8080'));
    assert.ok(!sameDestination('echo.demo:8080', 'echo.demo:80'));
    assert.ok(!sameDestination('other.demo:80', 'echo.demo:80'));
    assert.ok(!sameDestination('[::2]:80', '[::1]:80'));
  });
});
