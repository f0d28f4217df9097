"use client";
import { useEffect } from "react";
import { useStore } from "zustand";
import { configureApi } from "@/lib/api";
import { configFromPage } from "@/lib/config";
import { authStore } from "@/state/stores";

let booted = false;

/** The auth state; the first caller restores the session from the refresh cookie. */
export function useAuth() {
  const state = useStore(authStore);
  useEffect(() => {
    if (booted) return;
    booted = true;
    configureApi(configFromPage().apiUrl);
    void authStore.getState().restore();
  }, []);
  return state;
}
