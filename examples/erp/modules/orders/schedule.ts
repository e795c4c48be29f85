import { defineSchedule } from 'keel/queue';
import { DailySalesReport } from './jobs.js';

// Every night at 01:00 (the app's time zone, config/schedule.ts): yesterday's sales.
export default defineSchedule((schedule) => {
  schedule
    .job(DailySalesReport, {})
    .dailyAt('01:00')
    .name('orders:daily-sales-report')
    .onOneServer();
});
